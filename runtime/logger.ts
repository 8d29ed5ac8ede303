// pino JSON logs. Every line carries the node id; each actor logs through a child logger that
// binds its name (log.child({ actor, shard })), so an incident can be reconstructed by filtering
// on node and actor.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(nodeId: string, level: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { node: nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

