ALTER TABLE "evaluation_reports" ADD COLUMN "status" text DEFAULT 'succeeded' NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluation_reports" ADD COLUMN "progress" jsonb;--> statement-breakpoint
ALTER TABLE "evaluation_reports" ADD COLUMN "error_message" text;--> statement-breakpoint
ALTER TABLE "evaluation_reports" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
UPDATE "evaluation_reports" SET "finished_at" = "created_at" WHERE "finished_at" IS NULL;