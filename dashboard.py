"""dnnlens entry point: page config and navigation. Nothing else."""

import streamlit as st

from i18n import tr

st.set_page_config(page_title="dnnlens", page_icon="🔎", layout="wide")

pages = [
    st.Page("pages/home.py", title=tr("Home"), icon="🏠", default=True),
]
st.navigation(pages).run()
