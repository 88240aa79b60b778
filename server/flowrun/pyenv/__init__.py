"""pyenv"""
