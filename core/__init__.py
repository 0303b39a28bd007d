"""JourneyOps domain code: no Streamlit, no FastAPI; usable from the CLI, jobs and tests."""
