import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { lockStateDir } from '../../src/cli/state-lock.js';

const CONTENDER = fileURLToPath(new URL('../fixtures-cli/lock-contender.js', import.meta.url));

/** One contender process: send it a line, await its next answer. */
class Contender {
  private readonly answers: string[] = [];
  private readonly waiting: ((line: string) => void)[] = [];
  readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.answers.push(line);
    });
    this.exited = new Promise((resolve) => child.on('close', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  ask(line: string): Promise<string> {
    const answer = new Promise<string>((resolve, reject) => {
      const queued = this.answers.shift();
      if (queued !== undefined) return resolve(queued);
      this.waiting.push(resolve);
      void this.exited.then(() => reject(new Error(`contender ${this.pid} exited before answering "${line}"`)));
    });
    this.child.stdin.write(`${line}\n`);
    return answer;
  }

  end(): void {
    this.child.stdin.end();
  }
}

describe('the state directory lock', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tp-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets exactly one of three processes racing for it win, in each of 30 rounds, even over a stale pid file', async () => {
    const contenders = [0, 1, 2].map(
      () => new Contender(spawn(process.execPath, [CONTENDER, dir], { stdio: ['pipe', 'pipe', 'inherit'] })),
    );
    try {
      for (let round = 1; round <= 30; round++) {
        // What a SIGKILLed serve leaves: a pid file naming a process that is gone.
        writeFileSync(join(dir, 'serve.pid'), '999999999\n');
        const answers = await Promise.all(contenders.map((c) => c.ask(`try ${round}`)));
        const winners = contenders.filter((_, i) => answers[i] === `won ${round}`);
        expect(answers.filter((a) => a === `lost ${round}`), `round ${round}: ${answers.join(', ')}`).to.have.length(2);
        expect(winners, `round ${round}`).to.have.length(1);
        expect(readFileSync(join(dir, 'serve.pid'), 'utf8')).to.equal(`${winners[0].pid}\n`);
        await Promise.all(contenders.map((c) => c.ask(`release ${round}`)));
      }
    } finally {
      for (const c of contenders) c.end();
      await Promise.all(contenders.map((c) => c.exited));
    }
  });

  it('refuses a second holder naming the first by pid, and is free again once released', () => {
    const first = lockStateDir(dir);
    expect(() => lockStateDir(dir)).to.throw(`another trustctl serve (pid ${process.pid}) is running on ${dir}; stop it first (kill -TERM ${process.pid})`);
    first.release();
    expect(() => readFileSync(join(dir, 'serve.pid'))).to.throw(/ENOENT/);
    lockStateDir(dir).release();
  });
});
