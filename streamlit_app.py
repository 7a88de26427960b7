"""ECG beat classifier dashboard: `streamlit run streamlit_app.py`."""

import streamlit as st

st.set_page_config(page_title="ECG beat CNN", page_icon="🫀", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/predict.py", title="Predict", icon=":material/image_search:"),
    st.Page("pages/record.py", title="Record", icon=":material/monitor_heart:"),
    st.Page("pages/evaluation.py", title="Evaluation", icon=":material/analytics:"),
    st.Page("pages/explainer.py", title="Explainer", icon=":material/school:"),
]
st.navigation(pages).run()
