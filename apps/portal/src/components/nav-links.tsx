'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const SIGNED_IN = [
  { href: '/keystores', label: 'Keystores' },
  { href: '/worker', label: 'Browser worker' },
  { href: '/bank', label: 'Bank' },
  { href: '/jobs', label: 'Jobs' },
  { href: '/groups', label: 'Compute groups' },
  { href: '/workers', label: 'Workers' },
  { href: '/account', label: 'Account' },
];
const SIGNED_OUT = [
  { href: '/signin', label: 'Sign in' },
  { href: '/signup', label: 'Create account' },
];

export function NavLinks({ signedIn }: { signedIn: boolean }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main">
      <ul>
        {(signedIn ? SIGNED_IN : SIGNED_OUT).map((link) => (
          <li key={link.href}>
            <Link
              href={link.href}
              aria-current={
                pathname === link.href || pathname.startsWith(`${link.href}/`) ? 'page' : undefined
              }
            >
              {link.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
