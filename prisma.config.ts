// Prisma 6.19 with the WebAssembly engine and the Rust-free client: no engine download needed.
// DATABASE_URL must be set when the CLI runs, or Prisma falls back to its classic engine.
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
