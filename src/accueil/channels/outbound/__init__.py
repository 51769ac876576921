"""Outbound work: campaigns (calls, SMS, email) to lists, within French telemarketing law."""
