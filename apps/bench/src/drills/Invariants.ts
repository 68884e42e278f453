/**
 * The invariant checker: what the shop promises, checked against the database, the carrier
 * simulator's stats, the mail directory, the replicas' logs and the drill's own records of what the
 * shop acknowledged. Run once the shop is quiet (no order in paid/picking/packed/shipped, outbox sent).
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import type { OrderStatus } from "@shop/domain/Order"
import * as OrderStateMachine from "@shop/domain/OrderStateMachine"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Records, Verdict } from "./Load.js"
import type { Replica } from "./Processes.js"

export interface Invariant {
  readonly name: string
  readonly ok: boolean
  /** One line for the table. */
  readonly summary: string
  /** Evidence when it broke (capped). */
  readonly details: ReadonlyArray<string>
}

/** `GET /v1/stats` of the carrier simulator. */
export interface SimStats {
  readonly shipments: number
  readonly events: number
  readonly bookingsByKey: Record<string, number>
  readonly requests: Record<string, number>
}

export interface Shutdown {
  readonly round: number | "final"
  readonly replica: string
  readonly pid: number
  readonly signal: NodeJS.Signals
  readonly code: number | null
  readonly exitSignal: NodeJS.Signals | null
  /** Signal sent → exit seen; `undefined` when it did not exit within the bound (then SIGKILLed). */
  readonly tookMs: number | undefined
  /** The shop's own `shutdown complete in …` / deadline line, if it logged one. */
  readonly shopSays: string | undefined
}

export interface Quiet {
  readonly reached: boolean
  readonly afterMs: number
  /** What was still moving when the wait ended. */
  readonly state: QuietState
}

export interface QuietState {
  readonly busy: number
  readonly leased: number
  readonly unsent: number
  readonly failedBookings: number
}

export interface CheckInput {
  readonly sql: PgClient.PgClient
  readonly records: Records
  readonly sim: SimStats
  readonly mailDir: string
  readonly replicas: ReadonlyArray<Replica>
  readonly shutdowns: ReadonlyArray<Shutdown>
  readonly quiet: Quiet
}

/** Facts for the report besides the invariants. */
export interface Facts {
  readonly ordersByStatus: Record<string, number>
  readonly orders: number
  readonly acknowledgedOrders: number
  /** Rows whose key the drill sent but never got a 201 for (creation cut by a kill, or retries ran out). */
  readonly unacknowledgedOrders: number
  readonly users: number
  readonly acknowledgedSignups: number
  readonly outboxByKind: Record<string, number>
  /** Outbox rows claimed by more than one delivery attempt. */
  readonly outboxReclaimed: number
  readonly mailFiles: number
  readonly simShipments: number
}

export const quietState = (sql: PgClient.PgClient) =>
  Effect.map(
    sql<QuietState>`
      SELECT
        (SELECT count(*)::int FROM orders
          WHERE status IN ('paid', 'picking', 'shipped') OR (status = 'packed' AND NOT carrier_failed)) AS busy,
        (SELECT count(*)::int FROM orders WHERE lease_owner IS NOT NULL) AS leased,
        (SELECT count(*)::int FROM outbox WHERE sent_at IS NULL) AS unsent,
        (SELECT count(*)::int FROM orders WHERE carrier_failed) AS "failedBookings"`,
    ([row]) => row
  )

const cap = <A>(items: ReadonlyArray<A>, n = 10): Array<A> => items.slice(0, n)
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

interface OrderRow {
  readonly id: number
  readonly status: OrderStatus
  readonly idempotency_key: string | null
  readonly lease_owner: string | null
  readonly shipment_id: string | null
  readonly carrier_failed: boolean
  readonly carrier_last_error: string | null
}

interface EventRow {
  readonly order_id: number
  readonly from_status: OrderStatus
  readonly to_status: OrderStatus
}

interface OutboxRow {
  readonly id: number
  readonly kind: string
  readonly recipient: string
  readonly sent: boolean
  readonly attempts: number
}

interface MailFile {
  readonly file: string
  readonly to: string
  readonly subject: string
}

const readMailDir = (dir: string): Array<MailFile> => {
  if (!Fs.existsSync(dir)) return []
  return Fs.readdirSync(dir).filter((file) => file.endsWith(".eml")).map((file) => {
    const text = Fs.readFileSync(Path.join(dir, file), "utf8")
    const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(text)?.[1]?.trim() ?? ""
    return { file, to: header("To").toLowerCase(), subject: header("Subject") }
  })
}

/**
 * When the replica itself saw the signal and closed its listener, relative to the request being
 * sent: tells "sent before the shop even began draining" from "sent to a closing listener".
 */
const drainTimeline = (replica: Replica, sentAt: number) => {
  const at = (pattern: RegExp) => {
    const line = replica.lines.find((l) => l.annotations.service === undefined && pattern.test(l.message))
    return line === undefined ? undefined : Date.parse(line.timestamp) - sentAt
  }
  const rel = (ms: number | undefined) => ms === undefined ? "never" : ms >= 0 ? `${ms} ms after` : `${-ms} ms before`
  const received = at(/^shutdown: (SIGTERM|SIGINT) received/)
  // logged just before the listener (and the idle connections) are closed
  const closed = at(/^http: closed listener/)
  return received === undefined && closed === undefined
    ? ""
    : ` [shop log: "SIGTERM received" ${rel(received)} the request was sent, "closed listener" ${rel(closed)}]`
}

/** What the checker reads: the input, the tables, the mail directory. */
interface Data {
  readonly records: Records
  readonly sim: SimStats
  readonly shutdowns: ReadonlyArray<Shutdown>
  readonly quiet: Quiet
  readonly replicas: ReadonlyArray<Replica>
  readonly orders: ReadonlyArray<OrderRow>
  readonly events: ReadonlyArray<EventRow>
  readonly eventsOf: ReadonlyMap<number, ReadonlyArray<EventRow>>
  readonly users: ReadonlyArray<{ readonly email: string }>
  readonly outbox: ReadonlyArray<OutboxRow>
  readonly mail: ReturnType<typeof readMailDir>
}

/** HTTP. */
const httpChecks = ({ records }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const failuresOf = (verdicts: ReadonlyArray<string>) => records.failures.filter((f) => verdicts.includes(f.verdict))
  const describeFailure = (f: Records["failures"][number]) =>
    `${new Date(f.at).toISOString().slice(11, 23)} ${f.op} → ${f.replica}, ${f.replicaState}: ${f.detail}` +
    drainTimeline(f.process, f.sentAt)
  const broken = records.total("broken") + records.total("timeout")
  out.push({
    name: "every request got a complete response or a refused connection (live/draining replicas)",
    ok: broken === 0,
    summary: broken === 0
      ? `0 resets, 0 timeouts (${records.total("cut by SIGKILL")} cut by SIGKILL, expected)`
      : `${records.total("broken")} broken, ${records.total("timeout")} timed out: ` +
        [...records.brokenKinds].map(([kind, n]) => `${n}× ${kind}`).join("; "),
    details: cap(failuresOf(["broken", "timeout"])).map(describeFailure)
  })
  const none = (name: string, verdict: Verdict) => {
    const count = records.total(verdict)
    out.push({ name, ok: count === 0, summary: `${count}`, details: cap(failuresOf([verdict])).map(describeFailure) })
  }
  none("no 5xx", "5xx")
  none("no unexpected status (sign-up 201, order 201, pay/cancel 200 or 409)", "unexpected status")
  return out
}

/** Shutdowns. */
const shutdownChecks = ({ shutdowns }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const sigterms = shutdowns.filter((s) => s.signal === "SIGTERM")
  const badExits = sigterms.filter((s) => s.code !== 0)
  out.push({
    name: "every SIGTERM ends in exit code 0",
    ok: badExits.length === 0,
    summary: `${sigterms.length - badExits.length}/${sigterms.length}`,
    details: cap(badExits).map((s) =>
      `round ${s.round} ${s.replica} (pid ${s.pid}): code ${s.code}, signal ${s.exitSignal}, ${
        s.tookMs === undefined ? "did not exit in time (SIGKILLed)" : `after ${s.tookMs} ms`
      }; shop: ${s.shopSays ?? "no shutdown line"}`
    )
  })
  return out
}

/** Quiet. */
const quietCheck = ({ quiet }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const q = quiet
  out.push({
    name: "quiet within 60 s after the rounds (no paid/picking/packed/shipped order, outbox sent)",
    ok: q.reached,
    summary: q.reached
      ? `after ${(q.afterMs / 1000).toFixed(1)} s`
      : `not after ${(q.afterMs / 1000).toFixed(1)} s: ${q.state.busy} orders moving, ` +
        `${q.state.unsent} unsent e-mails, ${q.state.leased} leases`,
    details: []
  })
  return out
}

/** Orders: acknowledged ones exist, once per key. */
const orderChecks = ({ records, orders }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const byKey = new Map<string, Array<OrderRow>>()
  for (const order of orders) {
    if (order.idempotency_key === null) continue
    byKey.set(order.idempotency_key, [...(byKey.get(order.idempotency_key) ?? []), order])
  }
  const orderProblems: Array<string> = []
  for (const [key, ids] of records.orders201) {
    const rows = byKey.get(key) ?? []
    if (ids.size !== 1) orderProblems.push(`key ${key}: its 201s returned different orders ${[...ids].join(", ")}`)
    if (rows.length === 0) orderProblems.push(`key ${key}: acknowledged as order ${[...ids][0]}, no row`)
    else if (rows.length > 1) orderProblems.push(`key ${key}: ${rows.length} rows (${rows.map((r) => r.id)})`)
    else if (!ids.has(rows[0].id)) orderProblems.push(`key ${key}: acknowledged ${[...ids]}, row is ${rows[0].id}`)
  }
  for (const [key, rows] of byKey) {
    if (rows.length > 1) orderProblems.push(`key ${key}: ${rows.length} rows`)
  }
  out.push({
    name: "every acknowledged order (201) exists, exactly once per idempotency key",
    ok: orderProblems.length === 0,
    summary: orderProblems.length === 0
      ? `${records.orders201.size}/${records.orders201.size} keys, 1 row each`
      : plural(orderProblems.length, "problem"),
    details: cap(orderProblems)
  })
  return out
}

/** Event logs are paths through the state machine. */
const pathChecks = ({ orders, events, eventsOf }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const pathProblems: Array<string> = []
  for (const order of orders) {
    const log = eventsOf.get(order.id) ?? []
    const path = log.map((e) => ({ from: e.from_status, to: e.to_status }))
    const checked = OrderStateMachine.checkPath(path)
    const seen = new Set<string>()
    const twice = path.filter((e) => seen.has(`${e.from}->${e.to}`) || !seen.add(`${e.from}->${e.to}`))
    const rendered = path.length === 0 ? "(no events)" : ["pending", ...path.map((e) => e.to)].join("→")
    if (Either.isLeft(checked)) pathProblems.push(`order ${order.id}: ${checked.left.message} (${rendered})`)
    else if (checked.right !== order.status) {
      pathProblems.push(`order ${order.id}: events end at ${checked.right}, row says ${order.status} (${rendered})`)
    }
    if (twice.length > 0) pathProblems.push(`order ${order.id}: transition twice: ${rendered}`)
  }
  out.push({
    name: "every order's events are a valid state-machine path, no transition twice, ending at its status",
    ok: pathProblems.length === 0,
    summary: pathProblems.length === 0
      ? `${orders.length}/${orders.length} orders, ${events.length} events`
      : plural(pathProblems.length, "problem"),
    details: cap(pathProblems)
  })
  return out
}

/** Every paid (and not cancelled) order was delivered. */
const deliveredCheck = ({ orders, eventsOf }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const paidNotCancelled = orders.filter((order) => {
    const log = eventsOf.get(order.id) ?? []
    return log.some((e) => e.to_status === "paid") && !log.some((e) => e.to_status === "cancelled")
  })
  const undelivered = paidNotCancelled.filter((order) => order.status !== "delivered")
  out.push({
    name: "every paid order (not cancelled) reached delivered",
    ok: undelivered.length === 0,
    summary: `${paidNotCancelled.length - undelivered.length}/${paidNotCancelled.length}`,
    details: cap(undelivered).map((order) =>
      `order ${order.id}: ${order.status}${order.carrier_failed ? " (booking failed)" : ""}${
        order.carrier_last_error ? `, last carrier error: ${order.carrier_last_error}` : ""
      }${order.lease_owner ? `, leased by ${order.lease_owner}` : ""}`
    )
  })
  return out
}

/** Exactly one shipment per order. */
const shipmentChecks = ({ orders, sim }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const shipped = orders.filter((order) => order.status === "shipped" || order.status === "delivered")
  const shipmentProblems: Array<string> = []
  const multiple = Object.entries(sim.bookingsByKey).filter(([, n]) => n !== 1)
  for (const [key, n] of multiple) shipmentProblems.push(`carrier: ${n} shipments for key ${key}`)
  if (sim.shipments !== shipped.length) {
    shipmentProblems.push(
      `carrier has ${sim.shipments} shipments, the shop ${shipped.length} shipped/delivered orders`
    )
  }
  for (const order of shipped) {
    if (order.shipment_id === null) shipmentProblems.push(`order ${order.id}: ${order.status} without shipment_id`)
    if (sim.bookingsByKey[`order-${order.id}`] === undefined) {
      shipmentProblems.push(
        `order ${order.id}: ${order.status}, but the carrier has no booking with key order-${order.id}`
      )
    }
  }
  const shippedKeys = new Set(shipped.map((order) => `order-${order.id}`))
  for (const key of Object.keys(sim.bookingsByKey)) {
    if (!shippedKeys.has(key)) shipmentProblems.push(`carrier booked ${key}, which the shop did not ship`)
  }
  const shipmentIds = shipped.map((order) => order.shipment_id).filter((id) => id !== null)
  if (new Set(shipmentIds).size !== shipmentIds.length) shipmentProblems.push("two orders share a shipment id")
  out.push({
    name: "exactly one carrier shipment per shipped order (bookingsByKey all 1)",
    ok: shipmentProblems.length === 0,
    summary: shipmentProblems.length === 0
      ? `${sim.shipments} shipments = ${shipped.length} shipped/delivered orders, ${
        Object.keys(sim.bookingsByKey).length
      } keys all 1`
      : plural(shipmentProblems.length, "problem"),
    details: cap(shipmentProblems)
  })
  const leased = orders.filter((order) => order.lease_owner !== null)
  const failedBookings = orders.filter((order) => order.carrier_failed)
  out.push({
    name: "no carrier lease held after quiet, no booking given up",
    ok: leased.length === 0 && failedBookings.length === 0,
    summary: `${leased.length} leased, ${failedBookings.length} failed`,
    details: cap([
      ...leased.map((o) => `order ${o.id} (${o.status}) leased by ${o.lease_owner}`),
      ...failedBookings.map((o) => `order ${o.id} booking failed: ${o.carrier_last_error}`)
    ])
  })
  return out
}

/** Welcome e-mails. */
const welcomeChecks = ({ records, users, outbox, mail }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  const userSet = new Set(users.map((u) => u.email))
  const welcomeRows = new Map<string, Array<OutboxRow>>()
  for (const row of outbox.filter((r) => r.kind === "welcome")) {
    welcomeRows.set(row.recipient, [...(welcomeRows.get(row.recipient) ?? []), row])
  }
  const welcomeFiles = new Map<string, number>()
  for (const file of mail.filter((m) => m.subject === "Welcome to the shop")) {
    welcomeFiles.set(file.to, (welcomeFiles.get(file.to) ?? 0) + 1)
  }
  const welcomeProblems: Array<string> = []
  for (const email of records.signups201) {
    const rows = welcomeRows.get(email) ?? []
    if (!userSet.has(email)) welcomeProblems.push(`${email}: acknowledged sign-up, no user row`)
    else if (rows.length !== 1) welcomeProblems.push(`${email}: ${rows.length} welcome outbox rows`)
    else if (!rows[0].sent) welcomeProblems.push(`${email}: welcome row ${rows[0].id} not sent`)
    else if ((welcomeFiles.get(email) ?? 0) === 0) welcomeProblems.push(`${email}: marked sent, no .eml file`)
  }
  // users whose sign-up answer was lost (cut by a kill) must get theirs too
  for (const email of userSet) {
    if (records.signups201.has(email)) continue
    const rows = welcomeRows.get(email) ?? []
    if (rows.length !== 1 || !rows[0].sent) welcomeProblems.push(`${email} (unacknowledged sign-up): not sent`)
  }
  out.push({
    name: "every user (every 201 sign-up included) has its welcome e-mail sent and written",
    ok: welcomeProblems.length === 0,
    summary: welcomeProblems.length === 0
      ? `${records.signups201.size} acknowledged + ${
        userSet.size - records.signups201.size
      } unacknowledged sign-ups, ` +
        `${[...welcomeFiles.values()].reduce((a, b) => a + b, 0)} welcome .eml files, none missing`
      : plural(welcomeProblems.length, "problem"),
    details: cap(welcomeProblems)
  })
  const unsent = outbox.filter((row) => !row.sent)
  out.push({
    name: "outbox drained (welcome and delivered e-mails all sent)",
    ok: unsent.length === 0,
    summary: `${outbox.length - unsent.length}/${outbox.length} sent`,
    details: cap(unsent).map((row) => `outbox ${row.id} (${row.kind} to ${row.recipient}), ${row.attempts} attempts`)
  })
  return out
}

/** Duplicate deliveries, from the replicas' "mail: wrote <file>" lines. */
const duplicateCheck = ({ replicas }: Data): Array<Invariant> => {
  const out: Array<Invariant> = []
  // The file mailer names a message after its Message-ID (outbox-N), so a second delivery overwrites
  // the first file: duplicates are counted from the log lines of every replica instead.
  const writes = new Map<string, Array<{ replica: Replica; at: number }>>()
  for (const replica of replicas) {
    for (const line of replica.lines) {
      const match = /^mail: wrote (.+)$/.exec(line.message)
      if (match) {
        const file = Path.basename(match[1])
        writes.set(file, [...(writes.get(file) ?? []), { replica, at: Date.parse(line.timestamp) }])
      }
    }
  }
  let inCrashWindow = 0
  const duplicateProblems: Array<string> = []
  const crashDetails: Array<string> = []
  for (const [file, list] of writes) {
    if (list.length < 2) continue
    list.sort((a, b) => a.at - b.at)
    for (let i = 1; i < list.length; i++) {
      const first = list[i - 1].replica
      const killed = first.signalled()
      const text = `${file}: written by ${first.name} (pid ${first.pid}) and again by ${list[i].replica.name} (pid ${
        list[i].replica.pid
      }) ${list[i].at - list[i - 1].at} ms later`
      // The other documented window: the write succeeded but marking the row sent failed (the
      // database was unreachable), so the row's lease expired and it was sent again.
      const id = /^outbox-(\d+)/.exec(file)?.[1]
      const markFailed = id !== undefined && first.lines.some((line) =>
        Date.parse(line.timestamp) >= list[i - 1].at &&
        new RegExp(`^background task \\w+-email:${id} failed`).test(line.message)
      )
      if (killed?.signal === "SIGKILL" && killed.at >= list[i - 1].at && killed.at <= list[i].at) {
        inCrashWindow++
        crashDetails.push(`${text}; ${first.name} was SIGKILLed ${killed.at - list[i - 1].at} ms after its write`)
      } else if (markFailed) {
        inCrashWindow++
        crashDetails.push(`${text}; ${first.name} could not mark it sent (database unreachable)`)
      } else duplicateProblems.push(text)
    }
  }
  out.push({
    name: "no e-mail delivered twice, except in the documented window (SIGKILL or lost database between send and mark)",
    ok: duplicateProblems.length === 0,
    summary: `${duplicateProblems.length} outside the window, ${inCrashWindow} in the crash window`,
    details: cap([...duplicateProblems, ...crashDetails])
  })
  return out
}

const factsOf = ({ mail, orders, outbox, records, sim, users }: Data): Facts => {
  const ordersByStatus: Record<string, number> = {}
  for (const order of orders) ordersByStatus[order.status] = (ordersByStatus[order.status] ?? 0) + 1
  const outboxByKind: Record<string, number> = {}
  for (const row of outbox) outboxByKind[row.kind] = (outboxByKind[row.kind] ?? 0) + 1
  return {
    ordersByStatus,
    orders: orders.length,
    acknowledgedOrders: records.orders201.size,
    unacknowledgedOrders: orders.filter((o) => o.idempotency_key !== null && !records.orders201.has(o.idempotency_key))
      .length,
    users: new Set(users.map((u) => u.email)).size,
    acknowledgedSignups: records.signups201.size,
    outboxByKind,
    outboxReclaimed: outbox.filter((row) => row.attempts > 1).length,
    mailFiles: mail.length,
    simShipments: sim.shipments
  }
}

export const check = (input: CheckInput) =>
  Effect.gen(function*() {
    const { sql } = input
    const orders = yield* sql<OrderRow>`
      SELECT id::int AS id, status, idempotency_key, lease_owner, shipment_id, carrier_failed, carrier_last_error
      FROM orders ORDER BY id`
    const events = yield* sql<EventRow>`
      SELECT order_id::int AS order_id, from_status, to_status FROM order_events ORDER BY order_id, id`
    const users = yield* sql<{ email: string }>`SELECT lower(email) AS email FROM users`
    const outbox = yield* sql<OutboxRow>`
      SELECT id::int AS id, kind, lower(recipient) AS recipient, sent_at IS NOT NULL AS sent, attempts FROM outbox`
    const eventsOf = new Map<number, Array<EventRow>>()
    for (const event of events) eventsOf.set(event.order_id, [...(eventsOf.get(event.order_id) ?? []), event])
    const data: Data = { ...input, orders, events, eventsOf, users, outbox, mail: readMailDir(input.mailDir) }
    const invariants: Array<Invariant> = [
      ...httpChecks(data),
      ...shutdownChecks(data),
      ...quietCheck(data),
      ...orderChecks(data),
      ...pathChecks(data),
      ...deliveredCheck(data),
      ...shipmentChecks(data),
      ...welcomeChecks(data),
      ...duplicateCheck(data)
    ]
    return { invariants, facts: factsOf(data) }
  })
