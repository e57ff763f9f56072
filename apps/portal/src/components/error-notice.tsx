import type { ApiError } from '../lib/api';
import { sentence } from '../lib/api';

/** A failed read, told so the user knows what to do next. */
export function ErrorNotice({ error, what }: { error: ApiError; what: string }) {
  return (
    <div className="alert error" role="alert" data-testid="error-notice">
      <p>
        <strong>Could not load {what}.</strong> {sentence(error.message)}
      </p>
      {error.code === 'EFETCH' ? (
        <p>
          Start the stack with <code>npx dcp-emu up</code>; this page reconnects by itself.
        </p>
      ) : null}
    </div>
  );
}
