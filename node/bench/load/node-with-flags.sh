#!/bin/sh
# Stand-in for the node binary while the bench starts raftstore members with --cpu-prof: LocalCluster spawns
# process.execPath with only the datastore's own flags, and --cpu-prof is not allowed in NODE_OPTIONS. Remove once
# LocalCluster takes node runtime flags (LocalClusterOptions.nodeArgs).
exec "$BENCH_REAL_NODE" $BENCH_NODE_FLAGS "$@"
