"""File source (type ``file``): a snapshot of CUCM or AD users exported to JSON lines or CSV; ``kind`` says which
type's records it holds, and the records' facts are that type's."""
