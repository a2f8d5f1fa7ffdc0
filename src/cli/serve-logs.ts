// The loggers of `trustctl serve`: every line goes to stderr, and into the ring of the service that logged it, which
// `trustctl logs <service>` reads over the API. Lines of the node itself and of its controllers (the runtime, the CA
// rotation driver, a worker's trustd client: what Talos's machined logs) belong to controller-runtime.
import type { RuntimeLogger } from '../runtime/runtime-context.js';
import { ServiceLogs } from '../server/service-logs.js';
import type { ServiceName } from '../server/service-logs.js';
import { createLineLogger } from './log-line.js';
import type { LineLogger, LogFormat } from './log-line.js';

export interface ServeLoggers {
  /** The node's own lines (controller-runtime). */
  log: LineLogger;
  /** A service's logger in the runtime's shape: a line with an `error` field is a warning. */
  service(name: ServiceName): RuntimeLogger;
  logs: ServiceLogs;
}

/** `write`: where every line goes besides its service's ring (serve: the io's stderr). */
export function serveLoggers(format: LogFormat, write: (line: string) => void, logs = new ServiceLogs()): ServeLoggers {
  const lineLogger = (name: ServiceName) =>
    createLineLogger(format, (line) => {
      write(line);
      logs.of(name).append(line);
    });
  const loggers = new Map<ServiceName, RuntimeLogger>();
  return {
    log: lineLogger('controller-runtime'),
    service(name) {
      let logger = loggers.get(name);
      if (!logger) loggers.set(name, (logger = runtimeLogger(lineLogger(name))));
      return logger;
    },
    logs,
  };
}

export function runtimeLogger(log: LineLogger): RuntimeLogger {
  return (message, fields) => log(fields && 'error' in fields ? 'warn' : 'info', message, fields);
}
