"""The Slack front door: a slack-bolt app calling the same core as the terminal."""
