/**
 * The entry point of the items peers: `PORT` (8080) and `HOST` (127.0.0.1) from the environment, one
 * "listening on" line, and SIGTERM (or SIGINT) → close → exit 0, as the shop's peers do.
 */
export const listenFromEnv = (server: {
  readonly listen: (port: number, host: string) => Promise<number>
  readonly close: () => Promise<void>
}): void => {
  const host = process.env.HOST?.trim() || "127.0.0.1"
  const port = Number(process.env.PORT ?? 8080)
  server.listen(port, host).then(
    (bound) => {
      console.log(`listening on http://${host}:${bound}`)
      const stop = () => server.close().then(() => process.exit(0), () => process.exit(1))
      process.once("SIGTERM", stop)
      process.once("SIGINT", stop)
    },
    (cause) => {
      console.error(cause)
      process.exit(1)
    }
  )
}
