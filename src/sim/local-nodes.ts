/**
 * Conductor nodes in this thread: each message goes straight into its receiver's inbox. The
 * browser runs the same HostNode and WorldNode in workers (src/runtime); here they prove that a
 * conductor's run equals the simulator's, and run one without workers.
 */
import { resolveFtSettings } from '../ft/settings';
import { Prng } from './prng';
import { HostNode, WorldNode, type ClusterNode, type Packet } from './node';
import { buildHost, buildWorld, type ClusterConfig, type HostSpec } from './cluster-config';
import type { HostHandle, NodeFactory, NodeHandle, WorldAction, WorldHandle } from './conductor';
import type { World } from '../world/world';

export function localNodes(cfg: ClusterConfig): NodeFactory {
  const ft = resolveFtSettings({ speedIps: cfg.primarySpeedIps, ...cfg.ft });
  const root = new Prng(cfg.seed);
  const nodes = new Map<string, ClusterNode>();
  const route = (p: Packet): void => nodes.get(p.to)?.accept(p);
  return {
    world(): WorldHandle {
      const node = new WorldNode(buildWorld(cfg, ['A', 'B']), root, cfg.sampleEveryUs, route);
      nodes.set('world', node);
      return {
        ...handle(node),
        act: async (a, key) => {
          const r = node.control(key, (w, nowUs) => worldAction(w, a, nowUs), (x) => (Array.isArray(x) ? x : []));
          return { trace: r.trace, sent: node.sentCounts(), epoch: typeof r.result === 'number' ? r.result : undefined };
        },
      };
    },
    host(spec: HostSpec): HostHandle {
      const node = new HostNode(buildHost(cfg, ft, spec), spec.index, root, cfg.sampleEveryUs, route, () => true, spec.startUs);
      nodes.set(spec.name, node);
      return {
        ...handle(node),
        kill: async () => node.kill(),
        flipRamBit: async (addr) => node.flipRamBit(addr),
        startVMotion: async (peer, epoch, key) => node.startVMotion(peer, epoch, key),
      };
    },
  };
}

/** What every node's handle does, in this thread. */
function handle(node: ClusterNode): NodeHandle {
  return {
    runWindow: async (endUs, _expect, returnUs) => node.runWindow(endUs, undefined, returnUs),
    addEnd: (end) => node.addEnd(end),
    setCut: async (wire, cut, key) => node.setCut(wire, cut, key),
    snapshot: async () => node.snapshot(),
    restore: async (s) => node.restore(s),
  };
}

/** A world action: effects for the ones that have them, the new epoch for reset-flag. */
export function worldAction(w: World, a: WorldAction, nowUs: number): ReturnType<World['tick']> | number | void {
  switch (a.kind) {
    case 'load':
      return w.setLoad(a.on, nowUs);
    case 'send-one':
      return w.sendOne(a.client, nowUs);
    case 'partition':
      return w.partition(a.spec);
    case 'heal':
      return w.heal();
    case 'add-vm':
      return w.addVm(a.vm);
    case 'reset-flag':
      return w.resetFlag(nowUs);
  }
}
