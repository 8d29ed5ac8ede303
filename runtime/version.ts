// The running version, from package.json (reported in heartbeats and cluster.status).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  for (const dir of [join(__dirname, '..'), join(__dirname, '..', '..')]) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lookout' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
