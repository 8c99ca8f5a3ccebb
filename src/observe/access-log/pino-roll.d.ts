declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';
  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    mkdir?: boolean;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    minLength?: number;
    sync?: boolean;
    contentMode?: 'buffer' | 'utf8';
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
}
