"""The assessment service: cases, assessment frameworks, assessments and panel decisions."""
