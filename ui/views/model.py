"""The model's documentation (docs/odd.md, the ODD protocol), rendered in the app."""

from __future__ import annotations

import streamlit as st

from ui import docs

st.title("The model")
try:
    text = docs.ODD.read_text(encoding="utf-8")
except OSError as exc:
    st.error(f"The documentation is missing ({exc.strerror}: {docs.ODD}).")
    st.stop()
parts = docs.sections(text)
chosen = st.pills("Section", ["Everything", *(t for t, _ in parts)], default="Everything",
                  key="odd_section", persist_state="session")
st.caption("From `docs/odd.md`. The code is authoritative where the two disagree.")
for title, body in parts:
    if chosen in (None, "Everything", title):
        st.markdown(body)
