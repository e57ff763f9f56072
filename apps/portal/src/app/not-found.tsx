import Link from 'next/link';

export default function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p className="lead">
        There is no page at this address. It may have moved, or the link may be mistyped.
      </p>
      <p>
        <Link href="/">Go to the portal home</Link>
      </p>
    </>
  );
}
