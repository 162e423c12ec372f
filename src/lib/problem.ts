/** An error that maps to an RFC 9457 problem response. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export function toProblem(error: ProblemError, instance?: string): Problem {
  return { type: 'about:blank', title: error.title, status: error.status, detail: error.detail, instance, ...error.extensions };
}

export const badRequest = (detail: string) => new ProblemError(400, 'Bad Request', detail);
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);
