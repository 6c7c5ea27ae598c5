"""Quotations in an article and who said them: finding, speakers, names."""
