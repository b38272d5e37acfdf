/** Types for sticky-comment.js (plain CommonJS so that actions/github-script can require it). */
export declare const MARKER: string;
export declare const LIMIT: number;
export declare function composeBody(opts: { report?: string; diffExit?: string; live?: string; liveExit?: string; limit?: number }): string;
export declare function upsertComment(opts: { github: any; owner: string; repo: string; issueNumber: number; body: string }): Promise<'created' | 'updated'>;
export declare function run(opts: { github: any; context: any; core: any; reportFile: string; liveFile?: string; env?: NodeJS.ProcessEnv }): Promise<'created' | 'updated'>;
