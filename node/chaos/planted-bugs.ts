// Test-only: a coordinator broken on purpose, to show that a chaos run's checks catch a reshard that goes wrong
// while it still "completes" (every batch done, the layout even). Chosen with `--planted-bug`; never the default.
import type { SlotGroups } from '../shared/sharding/move-driver.js';

export const PLANTED_BUGS = ['skip-copy'] as const;

/**
 * - skip-copy: the coordinator skips the copy step. It still pages through the export (so the driver seals the import
 *   and moves on), but ingests no key: the target serves the batch without its data. Only the linearizability and
 *   lost-write checks can tell; the layout check cannot.
 */
export type PlantedBug = (typeof PLANTED_BUGS)[number];

export function isPlantedBug(name: string): name is PlantedBug {
  return (PLANTED_BUGS as readonly string[]).includes(name);
}

export function withPlantedBug(groups: SlotGroups, bug: PlantedBug): SlotGroups {
  switch (bug) {
    case 'skip-copy':
      return {
        status: (...call) => groups.status(...call),
        step: (...call) => groups.step(...call),
        exportPage: (...call) => groups.exportPage(...call),
        ingest: (shard, from, epoch, _kvs, seal, sessions, after) =>
          groups.ingest(shard, from, epoch, [], seal, sessions, after),
      };
  }
}
