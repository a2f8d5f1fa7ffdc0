import { expect } from 'chai';
import { createProgress } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('gen progress', () => {
  it('shows each slow step on a terminal and clears the line when done', () => {
    const { stream, written } = fakeStream(true);
    const progress = createProgress(stream);
    progress.step('generating the service-account key (RSA-4096)');
    progress.done();
    expect(written.join('')).to.contain('generating the service-account key (RSA-4096)');
    expect(written[written.length - 1]).to.equal('\r\x1b[2K');
  });

  it('writes nothing when stderr is not a terminal', () => {
    const { stream, written } = fakeStream(false);
    const progress = createProgress(stream);
    progress.step('generating');
    progress.done();
    expect(written).to.deep.equal([]);
  });
});
