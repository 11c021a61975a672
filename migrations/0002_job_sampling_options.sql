ALTER TABLE "generation_jobs" ADD COLUMN "verifier_scale" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "generation_jobs" ADD COLUMN "candidates" integer DEFAULT 1 NOT NULL;