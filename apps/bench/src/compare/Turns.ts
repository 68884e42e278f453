/**
 * The order the stacks take their turns in, round by round: round 1 as listed, then each round
 * starting one stack later (with three stacks and three rounds, each runs first, second and last
 * once). On this machine a run is disturbed by what ran just before it (PostgreSQL's background
 * writes after a POST run, the page cache, the VM's neighbours); a fixed order would hand the same
 * disturbance to the same stack every round.
 */
export const inRound = <A>(stacks: ReadonlyArray<A>, round: number): ReadonlyArray<readonly [A, number]> => {
  const start = (round - 1) % stacks.length
  return stacks.map((_, i) => {
    const index = (start + i) % stacks.length
    return [stacks[index], index] as const
  })
}
