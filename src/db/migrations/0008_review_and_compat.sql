CREATE TABLE "production_edits" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "production_edits_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"production_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text,
	"changes" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "approved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "auto_approve_sec" integer;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "cancel_reason" text;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "origin" jsonb;--> statement-breakpoint
ALTER TABLE "production_edits" ADD CONSTRAINT "production_edits_production_id_productions_id_fk" FOREIGN KEY ("production_id") REFERENCES "public"."productions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "production_edits_production_idx" ON "production_edits" USING btree ("production_id","id");--> statement-breakpoint
UPDATE "productions" SET "approved_at" = "updated_at" WHERE "approved" AND "approved_at" IS NULL;
