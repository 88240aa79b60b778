/** A refused request's message, from the design §5 error object it carries (pure). */
import type { ErrorInfo } from './protocol';

interface ErrorLike {
  message?: string;
  code?: number;
  data?: unknown;
}

/** The design §5 error object a FlowrunError carries as JSON-RPC `data`. */
export function errorData(error: unknown): Partial<ErrorInfo> {
  const data = (error as ErrorLike | undefined)?.data;
  return typeof data === 'object' && data !== null ? (data as Partial<ErrorInfo>) : {};
}

/** The message, with the suggestion when it does not say it already. */
export function errorMessage(error: unknown): string {
  const data = errorData(error);
  const message = data.message ?? (error as ErrorLike | undefined)?.message ?? String(error);
  return data.suggestion && !message.includes(data.suggestion)
    ? `${message} ${data.suggestion}`
    : message;
}
