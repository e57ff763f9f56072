import Link from 'next/link';
import { redirect } from 'next/navigation';
import { currentSession } from '@/server/auth';

export default async function Home() {
  if (await currentSession()) redirect('/keystores');
  return (
    <>
      <h1>Your local DCP network</h1>
      <p className="lead">
        The dcp-emu portal keeps the keys you use with dcp-client and dcp-worker against this emulator: an
        identity that signs your messages and bank accounts that pay for jobs. Keys are created and unlocked
        in your browser; the portal only ever holds them encrypted.
      </p>
      <div className="actions">
        <Link className="button" href="/signup">
          Create an account
        </Link>
        <Link className="button secondary" href="/signin">
          Sign in
        </Link>
      </div>
      <section className="card" aria-labelledby="how-heading">
        <h2 id="how-heading">How it works</h2>
        <ol>
          <li>Create an account with your email and a password.</li>
          <li>
            Create an identity keystore and a bank-account keystore, or upload the ones in your{' '}
            <code>~/.dcp</code>.
          </li>
          <li>
            Download them as <code>id.keystore</code> and <code>default.keystore</code> and put them where
            dcp-client looks for keys.
          </li>
        </ol>
      </section>
    </>
  );
}
