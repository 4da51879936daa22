// Test certificates made at run time with the openssl binary (node:crypto cannot sign X.509): a CA,
// leaf certificates signed by it, and a second CA nobody trusts. Everything lives in one temp folder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Leaf {
  readonly cert: string;
  readonly key: string;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'swimring-pki-'));
  private serial = 1;

  constructor() {
    this.makeCa('ca');
  }

  /** A self-signed CA as <name>.crt / <name>.key. */
  makeCa(name: string): Leaf {
    const leaf = { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
      '-keyout', leaf.key, '-out', leaf.cert, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return leaf;
  }

  /** A leaf for `cn` with the given SANs (e.g. "IP:127.0.0.1,DNS:swimring"), signed by CA `ca`. */
  makeLeaf(name: string, cn: string, san: string, ca = 'ca'): Leaf {
    const leaf = { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
    const csr = join(this.dir, `${name}.csr`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', leaf.key, '-out', csr]);
    openssl(['x509', '-req', '-in', csr, '-CA', join(this.dir, `${ca}.crt`), '-CAkey', join(this.dir, `${ca}.key`),
      '-set_serial', String(this.serial++), '-days', '2', '-extfile', ext, '-out', leaf.cert]);
    return leaf;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
