// What the members' admin API answers, decoded from the wire: the admin client (admin/) produces these and the
// observer (observer/) maps them onto the observed state. They live here, apart from both, so the client does not
// import the observer that calls it.

/** A member's answer to Status (its own identity), as the admin client decoded it. */
export interface AdminStatus {
  member: string;
  id: string;
  /** 32 hex digits, new for every fresh data directory. */
  incarnation: string;
  version: string;
  isMember: boolean;
  term: number;
  lastIndex: number;
  /** The term of the member's last log entry: with lastIndex, how up to date its log is (0 from older members). */
  lastLogTerm: number;
  /** The highest log index the member knows to be committed. */
  commit: number;
  role: 'leader' | 'follower' | 'learner' | 'unknown';
  /** Name of the leader this member knows; "" if none. */
  leader: string;
  /** Hash slots the member's group serves and has moving, as far as the member applied; the map epoch it saw. */
  slotsOwned: number;
  slotsMoving: number;
  slotMapEpoch: number;
  /** The data format the member's group writes, as it applied it; 1 from members before data formats. */
  dataFormat: number;
  /** The newest data format the member's build reads and writes; 1 from members before data formats. */
  maxDataFormat: number;
}

/** One member of a MemberList answer, as the admin client decoded it. */
export interface AdminMember {
  name: string;
  id: string;
  role: 'leader' | 'follower' | 'learner' | 'unknown';
  matchIndex: number;
  healthy: boolean;
  /** Only the answering member reports its own incarnation and version; "" for the others. */
  incarnation: string;
  version: string;
  clientAddress: string;
}
