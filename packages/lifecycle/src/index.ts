/**
 * Structured concurrency and graceful shutdown for Effect 3 services.
 *
 * @since 0.1.0
 */
export * as BackgroundTasks from "./BackgroundTasks.js"
export * as CallbackBridge from "./CallbackBridge.js"
export * as GracefulHttp from "./GracefulHttp.js"
export * as Health from "./Health.js"
export * as HttpJsonErrors from "./HttpJsonErrors.js"
export * as Launch from "./Launch.js"
export * as Lifecycle from "./Lifecycle.js"
export * as LifecycleMetrics from "./LifecycleMetrics.js"
export * as PeriodicWorker from "./PeriodicWorker.js"
export * as Signals from "./Signals.js"
export * as WorkerPool from "./WorkerPool.js"
