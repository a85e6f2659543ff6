/**
 * The signing keys of the fake org's custom authorization server (authorization-server.ts):
 * RS256 keys held in memory, JWTs signed and checked with node:crypto (no library: the fake must
 * not share code with the relying parties it tests), and Okta's rotation: the JWKS publishes the
 * current and the previous key, so a token signed before a rotation stays valid until it expires.
 */
import {
  type JsonWebKey,
  type KeyObject,
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';

/** How many keys the JWKS publishes: the signing key and the one before it. */
const PUBLISHED_KEYS = 2;

export interface PublicJwk {
  kty: string;
  alg: 'RS256';
  kid: string;
  use: 'sig';
  n: string;
  e: string;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

export interface VerifiedJwt {
  header: { alg?: unknown; kid?: unknown };
  claims: Record<string, unknown>;
}

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(16).toString('base64url');
  const { kty, n, e } = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: kty!, alg: 'RS256', kid, use: 'sig', n: n!, e: e! },
  };
}

export class SigningKeys {
  /** Oldest first; the last one signs. Every key ever held, for logout's id_token_hint. */
  private readonly keys: SigningKey[] = [newKey()];

  get currentKid(): string {
    return this.keys[this.keys.length - 1]!.kid;
  }

  /** A new signing key; the previous one stays published, older ones are dropped. */
  rotate(): PublicJwk {
    const key = newKey();
    this.keys.push(key);
    return key.jwk;
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: this.published().map((k) => k.jwk) };
  }

  sign(claims: Record<string, unknown>): string {
    const key = this.keys[this.keys.length - 1]!;
    const header = { kid: key.kid, alg: 'RS256' };
    const input = `${base64url(header)}.${base64url(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
  }

  /**
   * The header and claims of a JWT this server signed with a published key (or with any key it
   * ever held, when `anyKey`), or undefined. Expiry is the caller's business.
   */
  verify(token: string, anyKey = false): VerifiedJwt | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    let header: VerifiedJwt['header'];
    let claims: unknown;
    try {
      header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (header?.alg !== 'RS256' || typeof claims !== 'object' || claims === null) return undefined;
    const key = (anyKey ? this.keys : this.published()).find((k) => k.kid === header.kid);
    if (!key) return undefined;
    const valid = verify(
      'sha256',
      Buffer.from(`${headerPart}.${payloadPart}`),
      key.publicKey,
      Buffer.from(signaturePart, 'base64url'),
    );
    return valid ? { header, claims: claims as Record<string, unknown> } : undefined;
  }

  private published(): SigningKey[] {
    return this.keys.slice(-PUBLISHED_KEYS);
  }
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** OIDC's at_hash for RS256: the left half of the SHA-256 of the access token, base64url. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
}

/** base64url(SHA-256(verifier)), PKCE's S256 (RFC 7636). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
