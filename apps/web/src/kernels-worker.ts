/**
 * A web worker running the model on fmnist's WebAssembly-SIMD kernels (see kernels-protocol.ts): the page starts one
 * per core and splits each batch between them, which needs no SharedArrayBuffer, so it works on any static host.
 */
import { createKernelsHandler, type KernelsRequest } from './kernels-protocol';

const handle = createKernelsHandler();
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<KernelsRequest>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (event) => {
  void handle(event.data).then(({ reply, transfer }) => scope.postMessage(reply, transfer));
};
