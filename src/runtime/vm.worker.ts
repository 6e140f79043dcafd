/**
 * A vm worker: one physical host — a VM host (src/ft/host.ts) as a cluster node — served over
 * MessagePorts (node-server.ts). A kill is `worker.terminate()` from the main thread.
 */
import { serveNode, type WorkerScope } from './node-server';

serveNode(self as unknown as WorkerScope);
