import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLinks } from '@/components/nav-links';
import { SignOutButton } from '@/components/sign-out-button';
import { currentSession } from '@/server/auth';
import './globals.css';
import './pages.css';

export const metadata: Metadata = {
  title: { default: 'dcp-emu portal', template: '%s · dcp-emu portal' },
  description: 'Accounts and keystores for the local DCP emulator',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await currentSession().catch(() => null);
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="inner">
            <Link className="brand" href="/">
              dcp-emu portal
            </Link>
            <NavLinks signedIn={session !== null} />
            {session ? (
              <div className="who">
                <span>
                  Signed in as <strong data-testid="signed-in-email">{session.email}</strong>
                </span>
                <SignOutButton />
              </div>
            ) : null}
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}
