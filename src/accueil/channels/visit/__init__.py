"""Agency visits: opening hours and closures, appointments booked from the portal, walk-ins, visits."""
