"""ECG beat classifier dashboard: `streamlit run streamlit_app.py`."""

import streamlit as st

st.set_page_config(page_title="ECG beat CNN", page_icon="🫀", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/predict.py", title="Predict", icon="🔎"),
    st.Page("pages/record.py", title="Record", icon="📈"),
    st.Page("pages/evaluation.py", title="Evaluation", icon="📊"),
    st.Page("pages/explainer.py", title="Explainer", icon="🧠"),
]
st.navigation(pages).run()
