// Minimal typings for the part of PouchDB 9 this application uses. (@types/pouchdb describes
// PouchDB 6 and pulls in a dozen packages; the surface we touch is small and stable.)
declare module 'pouchdb' {
  namespace PouchDB {
    interface Doc {
      _id: string;
      _rev?: string;
      [key: string]: unknown;
    }
    interface PutResponse {
      ok: boolean;
      id: string;
      rev: string;
    }
    interface QueryRow<V = unknown> {
      key: unknown;
      value: V;
      id?: string;
      /** With include_docs. */
      doc?: Doc;
    }
    interface QueryResponse<V = unknown> {
      rows: QueryRow<V>[];
      total_rows?: number;
    }
    interface AllDocsResponse {
      rows: { id: string; key: string; value: { rev: string }; doc?: Doc }[];
      total_rows: number;
    }
    interface DatabaseInfo {
      db_name: string;
      doc_count: number;
      update_seq: number | string;
      adapter?: string;
    }
    interface Database {
      readonly name: string;
      info(): Promise<DatabaseInfo>;
      get(id: string, options?: Record<string, unknown>): Promise<Doc>;
      put(doc: Doc): Promise<PutResponse>;
      /** With `new_edits: false`, stores the given revisions as they are (replication does this). */
      bulkDocs(docs: Doc[], options?: Record<string, unknown>): Promise<unknown[]>;
      allDocs(options?: Record<string, unknown>): Promise<AllDocsResponse>;
      query<V = unknown>(view: string, options?: Record<string, unknown>): Promise<QueryResponse<V>>;
      viewCleanup(): Promise<unknown>;
      close(): Promise<void>;
      destroy(): Promise<void>;
    }
    interface Static {
      new (name: string, options?: Record<string, unknown>): Database;
      plugin(plugin: unknown): Static;
      defaults(options: Record<string, unknown>): Static;
      fetch(url: string, options?: Record<string, unknown>): Promise<unknown>;
    }
  }
  const PouchDB: PouchDB.Static;
  export default PouchDB;
}

declare module 'pouchdb-adapter-memory' {
  const plugin: unknown;
  export default plugin;
}

declare module 'express-pouchdb' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  type Handler = (req: IncomingMessage, res: ServerResponse) => void;
  function expressPouchdb(PouchDB: unknown, options?: Record<string, unknown>): Handler;
  export default expressPouchdb;
}
