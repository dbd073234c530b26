"""assertion"""
