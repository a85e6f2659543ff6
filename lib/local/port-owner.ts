/**
 * Which process listens on a TCP port, so that "port in use" can name it. Linux only (reads
 * /proc/net/tcp{,6} for the listening socket's inode, then /proc/<pid>/fd for the process holding
 * it); elsewhere, or for another user's process, it answers undefined and the message says less.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

export interface PortOwner {
  pid: number;
  /** The program and its script: `node serverless.js`. */
  command: string;
}

const LISTEN = '0A';

/** Inodes of sockets listening on `port` (any address, IPv4 or IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== LISTEN) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9]) {
        inodes.add(fields[9]);
      }
    }
  }
  return inodes;
}

/**
 * The program and its script, by base name only (`node serverless.js`, `java DynamoDBLocal.jar`):
 * enough to recognise it, and no argument that could hold a secret.
 */
function commandOf(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const operands = args.slice(1).filter((a) => !a.startsWith('-'));
    // A script by its extension, else a path (an npm bin such as .bin/jest has no extension).
    const script =
      operands.find((a) => /\.(c?m?js|ts|jar)$/.test(a)) ?? operands.find((a) => a.includes('/'));
    return [args[0], script]
      .filter((a): a is string => a !== undefined)
      .map((a) => basename(a).replace(/[^\w.@+-]/g, '?'))
      .join(' ');
  } catch {
    return '?';
  }
}

export function portOwner(port: number): PortOwner | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode))
          return { pid: Number(pid), command: commandOf(Number(pid)) };
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}
