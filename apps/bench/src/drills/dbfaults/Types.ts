/**
 * What each fault of the dbfaults drill measured.
 */

export interface FaultA {
  readonly stoppedAfterMs: number
  readonly to503Ms: number | undefined
  readonly readyzDuring: Record<string, number>
  readonly downMs: number
  readonly pgStartMs: number
  readonly recoverMs: number | undefined
  readonly maxProbeMs: number
}
export interface FaultB {
  readonly kills: Array<
    { readonly pid: number | undefined; readonly state: string | undefined; readonly readyAfterMs: number | undefined }
  >
}
export interface FaultC {
  readonly paidAtLock: number
  readonly failuresBefore: number
  readonly failuresAfter: number
  readonly heldMs: number
  readonly advanceAfterMs: number | undefined
}
