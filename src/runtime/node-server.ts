/**
 * The inside of a vm worker or the world worker: one cluster node (src/sim/node.ts) served over
 * MessagePorts. The main thread's control messages build the node, hand it one port per wire end,
 * and grant windows; packets from peer workers arrive on those ports and wait in the node's inbox.
 * A window runs only once every packet its peers sent before it has arrived (the grant's `expect`
 * counts, by wire) — MessagePorts keep order, so that is the moment the window's input is
 * complete. Every message is validated; a bad one is answered with an error and changes nothing.
 */
import { Machine } from '../machine/machine';
import { resolveFtSettings } from '../ft/settings';
import { Prng } from '../sim/prng';
import { HostNode, WorldNode, type ClusterNode, type Packet } from '../sim/node';
import { buildHost, buildWorld, type ClusterConfig } from '../sim/cluster-config';
import { worldAction } from '../sim/local-nodes';
import { validatePacket, validateToWorker, type FromWorker, type PortableConfig, type ToWorker } from './protocol';

export interface WorkerScope {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

export function serveNode(scope: WorkerScope): void {
  let node: ClusterNode | null = null;
  const ports = new Map<number, MessagePort>();
  let pending: { id: number; endUs: number; expect: Record<number, number> } | null = null;
  /** A cut waiting for what its peers sent before it (it is lost with the cut). */
  let cutWaiting: { expect: Record<number, number>; run: () => void } | null = null;

  const reply = (m: FromWorker): void => scope.postMessage(m);
  const fail = (id: number | null, err: unknown): void => reply({ t: 'error', id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });

  const send = (p: Packet): void => {
    const port = ports.get(p.wire);
    if (port) port.postMessage(p);
  };

  const received = (expect: Record<number, number>): boolean => {
    for (const [wire, n] of Object.entries(expect)) if ((node as ClusterNode).receivedOn(Number(wire)) < n) return false;
    return true;
  };

  const tryWindow = (): void => {
    if (cutWaiting && node && received(cutWaiting.expect)) {
      const c = cutWaiting;
      cutWaiting = null;
      c.run();
    }
    if (!pending || !node || !received(pending.expect)) return;
    const { id, endUs } = pending;
    pending = null;
    try {
      reply({ t: 'done', id, result: node.runWindow(endUs) });
    } catch (err) {
      fail(id, err);
    }
  };

  const handle = (m: ToWorker): void => {
    switch (m.t) {
      case 'init-host': {
        const cfg = clusterConfig(m.cfg, m.elf);
        const ft = resolveFtSettings({ speedIps: cfg.primarySpeedIps, ...cfg.ft });
        node = new HostNode(buildHost(cfg, ft, m.spec), m.spec.index, new Prng(cfg.seed), cfg.sampleEveryUs, send, () => true, m.spec.startUs);
        return;
      }
      case 'init-world': {
        const cfg = clusterConfig(m.cfg, new Uint8Array(0));
        node = new WorldNode(buildWorld(cfg, m.vms), new Prng(cfg.seed), cfg.sampleEveryUs, send);
        return;
      }
      case 'add-end': {
        const n = need(node);
        n.addEnd(m.end);
        ports.set(m.end.wire, m.port);
        m.port.onmessage = (ev: MessageEvent) => {
          try {
            n.accept(validatePacket(ev.data, m.end.wire));
          } catch (err) {
            fail(null, err);
            return;
          }
          tryWindow();
        };
        return;
      }
      case 'window':
        pending = { id: m.id, endUs: m.endUs, expect: m.expect };
        return tryWindow();
      case 'set-cut': {
        const n = need(node);
        cutWaiting = { expect: m.expect ?? {}, run: () => reply({ t: 'done', id: m.id, result: n.setCut(m.wire, m.cut, m.key) }) };
        return tryWindow();
      }
      case 'kill':
        return reply({ t: 'done', id: m.id, result: hostNode(node).kill() });
      case 'vmotion':
        return reply({ t: 'done', id: m.id, result: hostNode(node).startVMotion(m.peer, m.epoch, m.key) });
      case 'history':
        return reply({ t: 'done', id: m.id, result: worldNode(node).world.history() });
      case 'act': {
        const r = worldNode(node).control(m.key, (w, nowUs) => worldAction(w, m.action, nowUs), (x) => (Array.isArray(x) ? x : []));
        return reply({ t: 'done', id: m.id, result: { trace: r.trace, sent: worldNode(node).sentCounts(), epoch: typeof r.result === 'number' ? r.result : undefined } });
      }
    }
  };

  scope.onmessage = (ev: MessageEvent) => {
    let m: ToWorker;
    try {
      m = validateToWorker(ev.data);
    } catch (err) {
      const id = typeof (ev.data as { id?: unknown })?.id === 'number' ? (ev.data as { id: number }).id : null;
      return fail(id, err);
    }
    try {
      handle(m);
    } catch (err) {
      fail('id' in m ? m.id : null, err);
    }
  };
}

function clusterConfig(cfg: PortableConfig, elf: Uint8Array): ClusterConfig {
  return { ...cfg, script: [], makeMachine: () => Machine.fromElf(elf) };
}

function need(node: ClusterNode | null): ClusterNode {
  if (!node) throw new Error('the node is not built yet (init first)');
  return node;
}

function hostNode(node: ClusterNode | null): HostNode {
  if (!(node instanceof HostNode)) throw new Error('not a vm worker');
  return node;
}

function worldNode(node: ClusterNode | null): WorldNode {
  if (!(node instanceof WorldNode)) throw new Error('not the world worker');
  return node;
}
