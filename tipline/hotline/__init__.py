"""Tips taken by phone (匿名举报电话), letter (来信) or visit (来访), entered by an officer."""
