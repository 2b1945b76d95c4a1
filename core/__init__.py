"""dnnlens core library: features, models, importance statistics. Never imports streamlit."""
