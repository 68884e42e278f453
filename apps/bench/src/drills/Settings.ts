/**
 * What every drill's processes run with, and how a drill says what it is doing (on stderr).
 */
import * as Effect from "effect/Effect"

/** What every shop replica runs with (besides DATABASE_URL, CARRIER_URL, MAIL_DIR). */
export const shopSettings: Record<string, string> = {
  FULFILLMENT_INTERVAL: "100 millis",
  CARRIER_LEASE: "3 seconds",
  OUTBOX_SWEEP_INTERVAL: "500 millis",
  // a row leased by a SIGKILLed delivery attempt is retried after this (default 30 s)
  OUTBOX_LEASE: "5 seconds",
  SHUTDOWN_TIMEOUT: "10 seconds",
  LOG_LEVEL: "Info"
}

export const carrierSimSettings: Record<string, string> = {
  CARRIER_SIM_LATENCY: "100 millis",
  CARRIER_SIM_JITTER: "20 millis",
  CARRIER_SIM_IN_TRANSIT_AFTER: "100 millis",
  CARRIER_SIM_DELIVERED_AFTER: "200 millis"
}

export const progress = (text: string) => Effect.sync(() => process.stderr.write(`drill: ${text}\n`))
