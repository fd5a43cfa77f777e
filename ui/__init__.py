"""The Streamlit app of haiti-sim (`streamlit run ui/app.py`); it uses sim/, never the reverse."""
