// Leaf issuance with the CA key in a PKCS#11 token (SoftHSM2) beside the same issuance with the key in memory, in one
// run, in interleaved slices so that load on a shared machine hits both alike. Prints the ratio and where the time goes:
// building the certificate (the in-memory path minus its signature), the signature in memory, and the token's round
// trip (C_SignInit + C_Sign through pkcs11js on libuv's thread pool). Also the event loop's worst delay while the token
// signs, which stays small because C_Sign runs off the loop. Skips, saying why, where softhsm2 is not installed.
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { createCA, createCAWithSigner, generateKeyPairSync, issueCertificateAsync } from '../src/pki/index.js';
import type { SigningCA } from '../src/pki/index.js';
import { generateTokenKey, Pkcs11Token, tokenSigner } from '../src/pki/pkcs11/index.js';
import { createSoftToken, softhsmMissing } from '../test/support/softhsm.js';

const SLICE_MS = 200;
const ROUNDS = 10;
const CONCURRENCY = 8;

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

/** Runs `fn` with `inFlight` calls outstanding for `ms`; returns how many completed. */
async function spin(fn: () => Promise<unknown>, ms: number, inFlight: number): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      n++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return n;
}

async function compare(label: string, memory: () => Promise<unknown>, token: () => Promise<unknown>, inFlight: number): Promise<{ memory: number; token: number }> {
  await spin(memory, 200, inFlight);
  await spin(token, 200, inFlight);
  let m = 0;
  let t = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2) {
      m += await spin(memory, SLICE_MS, inFlight);
      t += await spin(token, SLICE_MS, inFlight);
    } else {
      t += await spin(token, SLICE_MS, inFlight);
      m += await spin(memory, SLICE_MS, inFlight);
    }
  }
  const seconds = (ROUNDS * SLICE_MS) / 1000;
  const result = { memory: m / seconds, token: t / seconds };
  console.log(`${label.padEnd(44)} in memory ${fmt(result.memory).padStart(8)} ops/s   SoftHSM2 ${fmt(result.token).padStart(8)} ops/s   ratio ${(result.token / result.memory).toFixed(2)}`);
  return result;
}

async function main(): Promise<void> {
  const missing = softhsmMissing();
  if (missing) {
    console.log(`skipped: ${missing}`);
    return;
  }
  const soft = createSoftToken('bench');
  const token = Pkcs11Token.open({ module: soft.module, token: soft.label, pin: soft.pin });
  try {
    const key = await generateTokenKey(token, { algorithm: 'ecdsa', label: 'bench CA' });
    const inToken: SigningCA = await createCAWithSigner('kubernetes', tokenSigner(token, key.uri, key.publicKey));
    const inMemory = await createCA('kubernetes', { algorithm: 'ecdsa' });
    const leaf = generateKeyPairSync('ecdsa');
    const options = { publicKey: leaf.publicKey, dnsNames: ['node1.example'], ipAddresses: ['10.5.0.2'] };
    const tbs = Buffer.alloc(400, 0x5a);

    const one = await compare('leaf issuance P-256, one at a time', () => issueCertificateAsync(inMemory, 'node-server', options), () => issueCertificateAsync(inToken, 'node-server', options), 1);
    await compare(`leaf issuance P-256, ${CONCURRENCY} in flight`, () => issueCertificateAsync(inMemory, 'node-server', options), () => issueCertificateAsync(inToken, 'node-server', options), CONCURRENCY);
    const sign = await compare('signature alone (400-byte TBS), one at a time', () => inMemory.signer.sign(tbs), () => inToken.signer.sign(tbs), 1);

    const build = 1e6 / one.memory - 1e6 / sign.memory;
    console.log(
      `where the time goes (us per certificate, one at a time): building ${fmt(build)}, signing in memory ${fmt(1e6 / sign.memory)}, token round trip ${fmt(1e6 / sign.token)}`,
    );

    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    await spin(() => issueCertificateAsync(inToken, 'node-server', options), 1000, CONCURRENCY);
    delay.disable();
    console.log(`event loop while the token signs (${CONCURRENCY} in flight): p99 delay ${(delay.percentile(99) / 1e6).toFixed(2)} ms, max ${(delay.max / 1e6).toFixed(2)} ms`);
  } finally {
    token.close();
    soft.remove();
  }
}

await main();
