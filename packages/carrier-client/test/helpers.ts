import { CarrierSim, type RunningCarrierSim, type StartOptions } from "@shop/carrier-sim"
import { afterEach } from "vitest"

const running: Array<RunningCarrierSim> = []

/** A simulator on a free port, fast by default, stopped after the test. */
export const startSim = async (options: StartOptions = {}): Promise<RunningCarrierSim> => {
  const sim = await CarrierSim.start({
    latency: 0,
    jitter: 0,
    inTransitAfter: "20 millis",
    deliveredAfter: "40 millis",
    ...options
  })
  running.push(sim)
  return sim
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()))
})

export const order = (orderId: number) => ({
  orderId,
  email: `buyer${orderId}@example.com`,
  items: [{ sku: "sku-1", quantity: 1 }]
})

/** Handshake: re-checks `predicate` every few ms until it holds (bounded). */
export const until = async (predicate: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline) {
    if (await predicate()) return
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  throw new Error(`never happened: ${what}`)
}

/** A promise with its resolver outside, for handshakes with callbacks. */
export const deferred = <A = void>() => {
  let resolve!: (value: A) => void
  const promise = new Promise<A>((r) => (resolve = r))
  return { promise, resolve }
}
