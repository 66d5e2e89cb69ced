import type { IIoHost, IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';

/** One message or request a {@link RecordingIoHost} saw. */
export interface RecordedToolkitMessage {
  readonly kind: 'notify' | 'request';
  readonly level: string;
  readonly code?: string;
  readonly message: string;
  readonly data: unknown;
}

/**
 * An IoHost for tests: records every toolkit message and request, and answers requests from `answers` (by message
 * code) or with the request's default.
 */
export class RecordingIoHost implements IIoHost {
  /** Everything the toolkit said or asked, in order. */
  readonly messages: RecordedToolkitMessage[] = [];

  constructor(private readonly answers: Readonly<Record<string, unknown>> = {}) {}

  /** Records a message. */
  async notify(message: IoMessage<unknown>): Promise<void> {
    this.messages.push({
      kind: 'notify',
      level: message.level,
      code: message.code,
      message: message.message,
      data: message.data,
    });
  }

  /** Records a request and answers it. */
  async requestResponse<T>(request: IoRequest<unknown, T>): Promise<T> {
    this.messages.push({
      kind: 'request',
      level: request.level,
      code: request.code,
      message: request.message,
      data: request.data,
    });
    return (request.code in this.answers ? this.answers[request.code] : request.defaultResponse) as T;
  }

  /** The message codes seen, in order, without repeats. */
  codes(): string[] {
    return [...new Set(this.messages.flatMap((m) => (m.code ? [m.code] : [])))];
  }
}
