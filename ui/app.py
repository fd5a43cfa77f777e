"""haiti-sim in the browser: explore and compare scenarios, read the model and its validation.

Started by `./dev.sh app` (`streamlit run ui/app.py`). This file only sets the page up and lists
the pages (`ui/views/`); the app's logic is in the modules next to it, and the model in `sim/`,
which never imports the app.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/, not the project, on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import session  # noqa: E402

VIEWS = Path(__file__).parent / "views"


def main() -> None:
    st.set_page_config(page_title="haiti-sim", layout="wide", initial_sidebar_state="expanded")
    session.runner()  # starts the workers (and their warm-up) at the first visit, not at Run
    pages = [  # the default page is served at the root ("/"): "/explore" is no page
        st.Page(VIEWS / "explore.py", title="Explore a scenario", default=True),
        st.Page(VIEWS / "compare.py", title="Compare scenarios", url_path="compare"),
        st.Page(VIEWS / "target.py", title="What does it take", url_path="target"),
        st.Page(VIEWS / "sensitivity.py", title="What matters", url_path="sensitivity"),
        st.Page(VIEWS / "discover.py", title="Where a policy fails", url_path="discover"),
        st.Page(VIEWS / "model.py", title="The model", url_path="model"),
        st.Page(VIEWS / "validation.py", title="Validation", url_path="validation"),
    ]
    try:
        st.navigation(pages, position="top").run()
    except Exception as exc:  # st.rerun and st.stop raise BaseExceptions, which pass
        session.show_bug(exc)


# Streamlit runs this file as __main__; a worker process that multiprocessing starts imports it
# again as __mp_main__, and must not start the app (or another pool) there.
if __name__ == "__main__":
    main()
