/**
 * The header line of the comparison: when, on what, and how busy the machine was — every figure of a
 * shared 2-core machine depends on it.
 */
import * as Os from "node:os"

export interface Facts {
  readonly startedAt: Date
  readonly cores: number
  readonly cpu: string
  readonly ramBytes: number
  readonly node: string
  /** e.g. `PostgreSQL 15.20 (external, 127.0.0.1:5432)` */
  readonly postgres: string
  readonly loadAtStart: number
  readonly loadAtEnd: number
  readonly tookMs: number
}

export const cpuModel = (): string => Os.cpus()[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU"

export const loadAverage = (): number => Os.loadavg()[0]

const minutes = (ms: number) => {
  const seconds = Math.round(ms / 1000)
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`
}

/** `2026-11-22 08:40 UTC · 2 cores (AMD EPYC 7B13), 24 GB RAM · Node v20.20.2 · PostgreSQL 15.20 … · load …` */
export const headerLine = (facts: Facts): string =>
  [
    `${facts.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    `${facts.cores} cores (${facts.cpu}), ${Math.round(facts.ramBytes / 1024 ** 3)} GB RAM`,
    `Node ${facts.node}`,
    facts.postgres,
    `load average (1 min) ${facts.loadAtStart.toFixed(2)} at start, ${facts.loadAtEnd.toFixed(2)} at end`,
    `whole run ${minutes(facts.tookMs)}`
  ].join(" · ")
